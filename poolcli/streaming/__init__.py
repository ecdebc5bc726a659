"""Images streamed band by band: read a band of rows at a time, pooled level by level as the rows
go by, written as they fill. No Dask: the work is a loop over bands, its threads decoding,
encoding and writing while numpy pools.

- :mod:`~poolcli.streaming.tiffrows`: a TIFF's tiles or strips decoded a band at a time by
  tifffile directly.
- :mod:`~poolcli.streaming.zarrchunks`: Zarr arrays (formats 2 and 3) written chunk by chunk,
  each chunk encoded and written as a file of its own.
- :mod:`~poolcli.streaming.pyramids`: pyramids (OME-Zarr, pyramidal TIFF) written in one pass
  from a :class:`poolcli.core.bands.PyramidStream`.

Needs tifffile, zarr and numcodecs (the ``chunked`` extra), imported by the modules that use them.
"""
