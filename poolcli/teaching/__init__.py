"""The textbook: im2col, col2im, the pooling layers, and step-by-step explanations."""
