"""headbench: honest comparisons of fine-tuning techniques for pretrained transformer encoders."""
__version__ = "0.1.0"
