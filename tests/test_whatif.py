"""What-if overrides (`--set`): typed like the file, invariants re-checked, derived values follow.

Expected counts are worked out by hand from the Qwen3-30B-A3B architecture below, and the
oracle builds the edited config in transformers to confirm them.
"""

from __future__ import annotations

import json
from typing import ClassVar

import pytest

from moecfg.core import inspect_source
from moecfg.families import FAMILIES, parse_config
from moecfg.loading.files import RawConfig
from moecfg.metrics import count_params
from moecfg.whatif import OverrideError, apply_overrides, resize_schedule
from tests.conftest import load_sample, run_cli, sample
from tests.oracle import oracle_counts, require_oracle

QWEN3_MOE = str(sample("Qwen3-30B-A3B.json"))

# Qwen3-30B-A3B: hidden 2048, 48 layers, all MoE, 128 experts of width 768, top-8.
EXPERT = 3 * 2048 * 768  # gate, up, down = 4,718,592
ROUTER_ROW = 2048  # the router is Linear(2048, num_experts)
TOTAL = 30_532_122_624
ACTIVE = 3_353_032_704


def composed(name: str, *assignments: str):
    config = parse_config(RawConfig(source=name, data=load_sample(name)))
    return apply_overrides(config, FAMILIES[config.family], assignments)


def test_top_k_changes_active_only():
    report = inspect_source(QWEN3_MOE, overrides=["num_experts_per_tok=4"])
    assert report["params"]["total"] == TOTAL
    assert report["params"]["active"] == ACTIVE - 48 * 4 * EXPERT == 2_447_063_040
    assert report["moe"]["num_experts_per_tok"] == 4
    assert report["provenance"]["moe.num_experts_per_tok"] == "override"
    assert report["overrides"] == [{"field": "moe.num_experts_per_tok", "value": 4, "was": 8}]


def test_pruning_experts_keeps_moe_layers():
    report = inspect_source(QWEN3_MOE, overrides=["num_experts=96"])
    assert report["moe"]["moe_layers"] == list(range(48))
    assert report["params"]["routed_experts"] == 48 * 96 * EXPERT
    assert report["params"]["router"] == 48 * 96 * ROUTER_ROW
    assert report["params"]["total"] == TOTAL - 48 * 32 * (EXPERT + ROUTER_ROW) == 23_281_219_584
    assert report["params"]["active"] == ACTIVE - 48 * 32 * ROUTER_ROW


@pytest.mark.oracle
@pytest.mark.parametrize(
    ("assignments", "raw_changes"),
    [
        (["num_experts=96"], {"num_experts": 96}),
        (
            ["num_experts_per_tok=4", "moe_intermediate_size=512"],
            {"num_experts_per_tok": 4, "moe_intermediate_size": 512},
        ),
        (["num_hidden_layers=40"], {"num_hidden_layers": 40}),
        (
            ["num_attention_heads=16", "num_key_value_heads=2"],
            {"num_attention_heads": 16, "num_key_value_heads": 2},
        ),
    ],
    ids=["prune-experts", "top-k-and-width", "fewer-layers", "heads"],
)
def test_override_matches_transformers_built_from_edited_file(assignments, raw_changes, tmp_path):
    edited, _ = composed("Qwen3-30B-A3B.json", *assignments)
    report = inspect_source(QWEN3_MOE, overrides=assignments)
    expected = oracle_counts({**load_sample("Qwen3-30B-A3B.json"), **raw_changes}, tmp_path)
    assert {k: report["params"][k] for k in expected} == expected
    assert edited.moe is not None


def test_derived_head_dim_follows_hidden_size():
    # Llama-3.1-8B has no head_dim key: it is hidden_size / heads = 4096 / 32 = 128.
    edited, _ = composed("Llama-3.1-8B.json", "hidden_size=2048")
    assert edited.base.head_dim == 2048 // 32
    assert edited.provenance["base.head_dim"] == "derived"
    assert edited.provenance["base.hidden_size"] == "override"


def test_more_layers_extend_the_schedule_by_its_period():
    assert resize_schedule(["s", "f", "s", "f"], 7) == ("s", "f", "s", "f", "s", "f", "s")
    assert resize_schedule(["d", "d", "d", "m", "m", "m", "m"], 9)[-2:] == ("m", "m")
    assert resize_schedule(["a", "b", "c"], 2) == ("a", "b")
    edited, _ = composed("Qwen3-30B-A3B.json", "num_hidden_layers=50")
    assert edited.moe.moe_layers == tuple(range(50))
    assert len(edited.base.layer_types) == 50


def test_values_typed_like_the_file():
    edited, applied = composed(
        "Qwen3-30B-A3B.json", "rope_theta=5e5", "norm_topk_prob=false", "dtype=float16"
    )
    assert edited.base.rope_theta == 500000.0
    assert edited.moe.norm_topk_prob is False
    assert edited.base.dtype == "float16"
    assert [o.field for o in applied] == ["base.rope_theta", "moe.norm_topk_prob", "base.dtype"]
    edited, _ = composed("Llama-3.1-8B.json", "sliding_window=null")
    assert edited.base.sliding_window is None


def test_last_assignment_wins_and_remembers_the_file_value():
    _, applied = composed("Qwen3-30B-A3B.json", "num_experts=96", "num_experts=64")
    assert [(o.field, o.value, o.was) for o in applied] == [("moe.num_experts", 64, 128)]


@pytest.mark.parametrize(
    ("assignment", "message"),
    [
        (
            "num_experts=abc",
            """--set num_experts: wrong type for 'num_experts': expected an integer, got a string ("abc")""",
        ),
        (
            "num_experts=1.5",
            "--set num_experts: wrong type for 'num_experts': expected an integer, got a number (1.5)",
        ),
        (
            "num_experts=0",
            "--set num_experts: invalid value for 'num_experts': must be positive, got 0",
        ),
        (
            "num_experts=4",
            "--set: invalid value for 'num_experts_per_tok': 8 exceeds the number of experts (4)",
        ),
        (
            "num_key_value_heads=5",
            "--set: invalid value for 'num_key_value_heads': num_attention_heads (32) is not divisible by num_key_value_heads (5)",
        ),
        (
            "norm_topk_prob=1",
            "--set norm_topk_prob: wrong type for 'norm_topk_prob': expected a boolean, got an integer (1)",
        ),
        (
            "num_experts=null",
            "--set num_experts: wrong type for 'num_experts': expected a value, got null",
        ),
        ("num_experts", "--set expects key=value, got 'num_experts'"),
    ],
)
def test_invalid_values_are_usage_errors(assignment, message):
    result = run_cli("inspect", QWEN3_MOE, "--set", assignment)
    assert result.exit_code == 2
    assert result.stderr == f"moecfg: error: {QWEN3_MOE}: {message}\n"


def test_unknown_key_lists_the_settable_keys():
    with pytest.raises(OverrideError) as caught:
        composed("Llama-3.1-8B.json", "num_experts=8")
    # The keys LlamaConfig declares that moecfg's model holds, and the common sizes; a dense
    # model has no MoE block to edit.
    assert caught.value.message == (
        "--set: unknown key 'num_experts'; llama can set: attention_bias, dtype, head_dim, "
        "hidden_size, intermediate_size, max_position_embeddings, mlp_bias, "
        "num_attention_heads, num_hidden_layers, num_key_value_heads, rms_norm_eps, rope_theta, "
        "sliding_window, tie_word_embeddings, vocab_size"
    )
    result = run_cli(
        "inspect", str(sample("Llama-3.1-8B.json")), "--set", "num_experts=8", "--format", "json"
    )
    assert result.exit_code == 2
    assert result.json()["error"]["code"] == "unknown_key"


def test_hugging_face_key_names_are_accepted():
    edited, applied = composed("Qwen3-30B-A3B.json", "moe_intermediate_size=512")
    assert edited.moe.expert_intermediate_size == 512
    assert applied[0].field == "moe.expert_intermediate_size"


def test_overrides_are_marked_in_every_format():
    table = run_cli("inspect", QWEN3_MOE, "--set", "num_experts=96")
    assert "override: moe.num_experts = 96 (was 128)" in table.stdout
    markdown = run_cli("inspect", QWEN3_MOE, "--set", "num_experts=96", "--format", "markdown")
    assert "- **override** `moe.num_experts` = `96` (was `128`)" in markdown.stdout
    assert "| moe.num_experts | 96 | override |" in markdown.stdout


class TestPerLayerTopK:
    """HunYuan lists one k per layer (`moe_topk`); a what-if must keep that list consistent."""

    # Hunyuan-A13B's shape: 32 layers, hidden 4096, 64 experts of width 3072.
    RAW: ClassVar[dict] = {
        "architectures": ["HunYuanMoEV1ForCausalLM"],
        "model_type": "hunyuan_v1_moe",
        "hidden_size": 4096,
        "intermediate_size": 3072,
        "num_hidden_layers": 32,
        "num_attention_heads": 32,
        "num_key_value_heads": 8,
        "head_dim": 128,
        "vocab_size": 128167,
        "tie_word_embeddings": True,
        "num_experts": 64,
        "moe_topk": [8] * 16 + [4] * 16,
    }
    EXPERT = 3 * 4096 * 3072

    def edit(self, *assignments):
        config = parse_config(RawConfig(source="hunyuan", data=self.RAW))
        return apply_overrides(config, FAMILIES[config.family], assignments)[0]

    def test_one_k_replaces_the_list(self):
        from moecfg.metrics import count_params

        before = count_params(self.edit())
        after = self.edit("num_experts_per_tok=2")
        assert after.moe.top_k_by_layer == ()
        # 16 layers drop from 8 to 2 experts, 16 from 4 to 2.
        assert count_params(after).active == before.active - (16 * 6 + 16 * 2) * self.EXPERT

    def test_fewer_layers_keep_their_own_k(self):
        edited = self.edit("num_hidden_layers=20")
        assert edited.moe.top_k_by_layer == (8,) * 16 + (4,) * 4

    def test_pruning_below_a_layer_k_is_refused(self):
        with pytest.raises(OverrideError, match=r"8 exceeds the number of experts \(6\)"):
            self.edit("num_experts=6")


@pytest.mark.parametrize(
    "assignment",
    # Architecture facts the adapter fixed, and keys Qwen3-MoE does not have.
    ["attention_experts=3", "kv_projections=1", "norms_per_layer=1", "sliding_window=0"],
)
def test_architecture_facts_are_not_settable(assignment):
    key = assignment.split("=")[0]
    result = run_cli("inspect", QWEN3_MOE, "--set", assignment)
    assert result.exit_code == 2
    assert result.stderr == (
        f"moecfg: error: {QWEN3_MOE}: --set: unknown key '{key}'; qwen3_moe can set: "
        "attention_bias, dtype, expert_intermediate_size, head_dim, hidden_size, "
        "intermediate_size, max_position_embeddings, norm_topk_prob, num_attention_heads, "
        "num_experts, num_experts_per_tok, num_hidden_layers, num_key_value_heads, "
        "num_shared_experts, rms_norm_eps, rope_theta, shared_expert_intermediate_size, "
        "tie_word_embeddings, vocab_size\n"
    )


def test_shared_experts_resize_their_width():
    # DeepSeek-V3: one shared expert of moe_intermediate_size 2048; two are one MLP of 4096.
    edited, _ = composed("DeepSeek-V3.json", "n_shared_experts=2")
    assert edited.moe.shared_expert_intermediate_size == 2 * 2048
    none, _ = composed("DeepSeek-V3.json", "n_shared_experts=0")
    assert none.moe.shared_expert_intermediate_size is None
    with pytest.raises(OverrideError) as caught:
        composed("Qwen3-30B-A3B.json", "num_shared_experts=1")
    assert caught.value.message == (
        "--set: invalid value for 'num_shared_experts': the file has no shared expert to size 1 "
        "by: set shared_expert_intermediate_size too"
    )
    edited, _ = composed("Qwen3-30B-A3B.json", "shared_expert_intermediate_size=512")
    assert edited.moe.num_shared_experts == 1


def _default_config(model_type: str) -> dict:
    require_oracle()
    from tests.coverage import default_config_dict

    return json.loads(json.dumps(default_config_dict(model_type)))


def _with_layers(model_type: str, config: dict, layers: int) -> dict:
    """The file as transformers writes it for `layers` layers: the per-layer lists of the old
    length dropped, so transformers derives them again from the layer count."""
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    parsed = parse_config(RawConfig(source=model_type, data=config))
    old = parsed.base.num_hidden_layers
    kept = {k: v for k, v in config.items() if not (isinstance(v, list) and len(v) == old)}
    key = FAMILIES[parsed.family].fields["base.num_hidden_layers"].key
    rebuilt = CONFIG_MAPPING[model_type](**{**kept, key: layers})
    return json.loads(json.dumps(rebuilt.to_dict()))


@pytest.mark.oracle
@pytest.mark.parametrize(
    ("model_type", "layers"),
    [
        ("glm_moe_dsa", 5),  # DSA indexers on the non-shared layers
        ("axk2", 5),  # gated norms, two on sparse layers
        ("minimax_m3_vl_text", 7),  # block indexer layers
        ("qwen3_next", 10),  # linear / full attention every fourth layer
        ("beam", 8),  # the last layer is full attention, whatever the pattern
        ("flint", 7),
        ("laguna", 9),  # query heads per layer
        ("deepseek_v4", 6),
        ("longcat_flash", 6),
    ],
)
def test_layer_count_resizes_every_per_layer_fact(model_type, layers, tmp_path):
    """`--set num_hidden_layers=N` counts what transformers builds from the file with N layers."""
    config = _default_config(model_type)
    parsed = parse_config(RawConfig(source=model_type, data=config))
    edited, _ = apply_overrides(parsed, FAMILIES[parsed.family], [f"num_hidden_layers={layers}"])
    counts = count_params(edited)
    rebuilt = _with_layers(model_type, config, layers)
    expected = oracle_counts(rebuilt, tmp_path)
    got = {**counts.parts, "total": counts.total, "active": counts.active}
    assert {k: got[k] for k in expected} == expected
    # Layer kinds and index sets too, which counts alone may not tell apart (sliding or full).
    file = parse_config(RawConfig(source=model_type, data=rebuilt))
    assert (edited.base, edited.moe) == (file.base, file.moe)


def test_layer_count_resizes_mlp_free_layers():
    """Nemotron-H's layer list is mamba, MoE, attention, MLP: four layers whose mixers have no
    MLP (mamba, attention) stay without one when the list repeats."""
    config = _default_config("nemotron_h")
    parsed = parse_config(RawConfig(source="nemotron_h", data=config))
    assert parsed.base.mlp_free_layers == (0, 2)
    edited, _ = apply_overrides(parsed, FAMILIES[parsed.family], ["num_hidden_layers=12"])
    assert edited.base.mlp_free_layers == (0, 2, 4, 6, 8, 10)
    assert edited.moe.moe_layers == (1, 5, 9)
    twelve = {**config, "layers_block_type": config["layers_block_type"] * 3}
    assert edited.base == parse_config(RawConfig(source="nemotron_h", data=twelve)).base


def test_odd_sublayers_are_refused():
    with pytest.raises(OverrideError) as caught:
        parsed = parse_config(RawConfig(source="x", data=_default_config("longcat_flash")))
        apply_overrides(parsed, FAMILIES[parsed.family], ["num_hidden_layers=5"])
    assert caught.value.message == (
        "--set: invalid value for 'num_hidden_layers': longcat_flash counts 2 layers per decoder "
        "layer (num_layers), so the layer count must be a multiple of 2, got 5"
    )


def test_warnings_quoting_the_file_numbers_are_left_out():
    config = _default_config("longcat_flash")
    parsed = parse_config(RawConfig(source="x", data=config))
    assert any("parameters in all" in warning for warning in parsed.warnings)
    edited, _ = apply_overrides(parsed, FAMILIES[parsed.family], ["num_hidden_layers=8"])
    assert edited.warnings == (
        "--set: left out 1 warning quoting the file's own numbers, which the overrides may "
        "change; inspect without --set to see it",
    )


@pytest.mark.oracle
def test_layer_count_resizes_the_block_indexer_layers(tmp_path):
    """MiniMax-M3's block indexer sits on its sparse layers: 12 layers of (full, sparse, sparse,
    sparse) cut to 8 are the 8-layer file with the pattern twice."""
    pattern = ["full_attention", "minimax_m3_sparse", "minimax_m3_sparse", "minimax_m3_sparse"]

    def file(repeats: int) -> dict:
        config = _default_config("minimax_m3_vl_text")
        layers = 4 * repeats
        return {
            **config,
            "num_hidden_layers": layers,
            "layer_types": pattern * repeats,
            "mlp_layer_types": ["sparse"] * layers,
        }

    parsed = parse_config(RawConfig(source="m3", data=file(3)))
    assert parsed.base.block_indexer.layers == (1, 2, 3, 5, 6, 7, 9, 10, 11)
    edited, _ = apply_overrides(parsed, FAMILIES[parsed.family], ["num_hidden_layers=8"])
    assert edited.base.block_indexer.layers == (1, 2, 3, 5, 6, 7)
    counts = count_params(edited)
    expected = oracle_counts(file(2), tmp_path)
    got = {**counts.parts, "total": counts.total, "active": counts.active}
    assert {k: got[k] for k in expected} == expected


def test_deeper_ernie_is_refused():
    """transformers saves moe_layer_end_index as the last layer's index (27 of 28): a deeper
    model would keep dense layers after it, which a schedule period cannot say. Fewer layers
    are a plain cut."""
    parsed = parse_config(RawConfig(source="x", data=_default_config("ernie4_5_moe")))
    with pytest.raises(OverrideError) as caught:
        apply_overrides(parsed, FAMILIES[parsed.family], ["num_hidden_layers=40"])
    assert caught.value.message == (
        "--set num_hidden_layers: moecfg cannot resize ernie4_5_moe's moe_layer_end_index: it "
        "fixes the last MoE layer by its index in the file; edit the config file instead"
    )
    edited, _ = apply_overrides(parsed, FAMILIES[parsed.family], ["num_hidden_layers=10"])
    assert edited.moe.moe_layers == tuple(range(1, 10))


def test_layer_count_is_bounded_like_the_files_own():
    result = run_cli("inspect", str(sample("Qwen3-8B.json")), "--set", "num_hidden_layers=1000000000")
    assert result.exit_code == 2
    assert result.stderr == (
        f"moecfg: error: {sample('Qwen3-8B.json')}: --set num_hidden_layers: invalid value for "
        "'num_hidden_layers': 1000000000 layers is beyond any real model (at most 100,000)\n"
    )
