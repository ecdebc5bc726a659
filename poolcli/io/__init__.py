"""Images, arrays and matrices in and out: formats, Pillow, the full-depth codecs, atomic files."""
