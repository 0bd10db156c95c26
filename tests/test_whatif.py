"""What-if overrides (`--set`): typed like the file, invariants re-checked, derived values follow.

Expected counts are worked out by hand from the Qwen3-30B-A3B architecture below, and the
oracle builds the edited config in transformers to confirm them.
"""

from __future__ import annotations

from typing import ClassVar

import pytest

from moecfg.core import inspect_source
from moecfg.families import FAMILIES, parse_config
from moecfg.loading.files import RawConfig
from moecfg.whatif import OverrideError, apply_overrides, resize_schedule
from tests.conftest import load_sample, run_cli, sample
from tests.oracle import oracle_counts

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
        "Qwen3-30B-A3B.json", "rope_theta=5e5", "norm_topk_prob=false", "sliding_window=null"
    )
    assert edited.base.rope_theta == 500000.0
    assert edited.moe.norm_topk_prob is False
    assert [o.field for o in applied] == [
        "base.rope_theta",
        "moe.norm_topk_prob",
        "base.sliding_window",
    ]


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
    message = caught.value.message
    assert message.startswith(
        "--set: unknown key 'num_experts' (settable: hidden_size, num_hidden_layers, "
    )
    assert "num_experts_per_tok" not in message  # a dense model has no MoE block to edit
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
