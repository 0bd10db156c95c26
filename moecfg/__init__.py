"""moecfg: inspect and lint Mixture-of-Experts model configs without loading a model."""

__version__ = "0.1.0"
