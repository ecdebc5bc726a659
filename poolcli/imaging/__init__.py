"""Images pooled as images: alpha-aware pooling, the Pillow-native quick way, the comparison."""
