"""Generated from protos/ by scripts/gen-protos. Do not edit."""
