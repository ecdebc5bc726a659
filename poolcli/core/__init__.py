"""The numpy-only core: geometry, the pooling engine, global, adaptive and fractional pooling."""
