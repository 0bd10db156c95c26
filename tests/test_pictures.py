"""The layer map and the parameter bar: one lettered cell per layer, readable without colour."""

from __future__ import annotations

from moecfg.core import inspect_source
from moecfg.render.pictures import BAR_WIDTH, layer_map_lines, parameter_bar_lines
from tests.conftest import run_cli, sample


def test_uniform_moe_model():
    lines = layer_map_lines(inspect_source(str(sample("Qwen3-30B-A3B.json"))))
    assert lines == [
        "Layer map (48 layers)",
        "          0         10        20        30        40",
        "attention " + "F" * 48,
        "mlp       " + "E" * 48,
        "legend    F full attention  E MoE (routed experts)",
    ]


def test_dense_layers_from_the_qwen_schedule(write_config):
    from tests.conftest import load_sample

    path = write_config(
        {**load_sample("Qwen3-30B-A3B.json"), "mlp_only_layers": [0, 1], "decoder_sparse_step": 2}
    )
    lines = layer_map_lines(inspect_source(str(path)))
    # MoE iff not in mlp_only_layers and (i + 1) % 2 == 0: layers 3, 5, 7, ...
    assert lines[3] == "mlp       " + "DDDE" + "DE" * 22
    assert lines[4].endswith("D dense MLP  E MoE (routed experts)")


def test_hybrid_linear_attention_model():
    lines = layer_map_lines(inspect_source(str(sample("Qwen3-Next-80B-A3B-Thinking.json"))))
    # full_attention_interval 4: three gated delta-net layers, then one full-attention layer.
    assert lines[2] == "attention " + "LLLF" * 12
    assert "L linear attention  F full attention" in lines[-1]


def test_sliding_window_model():
    lines = layer_map_lines(inspect_source(str(sample("gpt-oss-20b.json"))))
    assert lines[2] == "attention " + "SF" * 12


def test_many_layers_wrap_at_fifty(write_config):
    from tests.conftest import load_sample

    path = write_config({**load_sample("Llama-3.1-8B.json"), "num_hidden_layers": 61})
    lines = layer_map_lines(inspect_source(str(path)))
    assert lines[1].startswith("          0         10") and lines[1].endswith("40")
    assert lines[2] == "attention " + "F" * 50
    assert lines[4] == "          50"
    assert lines[5] == "attention " + "F" * 11


def test_parameter_bar_shares():
    lines = parameter_bar_lines(inspect_source(str(sample("Qwen3-30B-A3B.json"))))
    bar = lines[1]
    assert len(bar) == BAR_WIDTH + 2
    # routed experts are 28,991,029,248 of 30,532,122,624 parameters: 95.0% → 57 of 60 cells.
    assert bar.count("x") == 57
    assert lines[2] == "  x routed experts    95.0%"


def test_no_colour_output_has_no_escape_codes():
    result = run_cli("inspect", str(sample("Qwen3-30B-A3B.json")))
    assert "\x1b[" not in result.stdout
    assert "legend    F full attention  E MoE (routed experts)" in result.stdout


def test_latent_attention_and_leading_dense_layers():
    lines = layer_map_lines(inspect_source(str(sample("DeepSeek-V3.json"))))
    # first_k_dense_replace 3: layers 0-2 dense, 3-60 MoE; every layer attends through MLA.
    assert lines[2] == "attention " + "A" * 50
    assert lines[3] == "mlp       " + "DDD" + "E" * 47
    assert lines[-1] == "legend    A latent attention (MLA)  D dense MLP  E MoE (routed experts)"


def test_no_color_on_a_terminal_keeps_the_letters(monkeypatch):
    import io
    import re

    from rich.console import Console

    from moecfg.render.table import render_inspect

    monkeypatch.setenv("NO_COLOR", "1")
    buffer = io.StringIO()
    render_inspect(
        inspect_source(str(sample("Qwen3-30B-A3B.json"))),
        Console(file=buffer, force_terminal=True, width=100),
    )
    # Bold may remain; no foreground or background colour does.
    assert not re.search(r"\x1b\[[0-9;]*(3[0-7]|9[0-7]|38;|4[0-7]|48;)", buffer.getvalue())
    text = re.sub(r"\x1b\[[0-9;]*m", "", buffer.getvalue())
    assert "attention " + "F" * 48 in text and "mlp       " + "E" * 48 in text
