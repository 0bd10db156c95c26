"""The dtypes memory is reported at: plain data, so the CLI can list the choices for
`--kv-dtype` and `--weights-dtype` without importing the metrics behind them."""

#: Bits per weight for the dtypes weights are reported at: integers, so byte counts stay exact
#: however large the model (a float product drifts past 2**53).
WEIGHT_DTYPE_BITS = {"bf16": 16, "fp8": 8, "int4": 4}
#: `--weights-dtype checkpoint`: the checkpoint's own storage (its `quantization_config`).
CHECKPOINT = "checkpoint"
WEIGHT_DTYPES = (*WEIGHT_DTYPE_BITS, CHECKPOINT)
#: Bytes per cached value for `--kv-dtype`.
KV_DTYPE_BYTES = {"fp32": 4, "bf16": 2, "fp16": 2, "fp8": 1}
