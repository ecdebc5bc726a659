"""The help texts of the commands: what each does, its outputs, its exit statuses, examples."""

from __future__ import annotations

# The pooling commands, op -> one-line description. A new op is one more line here.
POOL_OPS = {
    "max": "Keep the largest value of each window: bright details survive.",
    "min": "Keep the smallest value of each window: dark details survive.",
    "avg": "Average each window: a smooth, antialiased downscale.",
    "sum": "Add up each window: a downscale that keeps the total.",
    "median": "Take the median of each window: no salt-and-pepper noise.",
    "lp": "Take the Lp norm of each window: between avg and max (--p).",
    "mode": "Take the most frequent value of each window: labels stay labels.",
}

POOL_HELP = """{summary}

Pools each INPUT: an image (PNG, JPEG, WebP, TIFF, GIF, ...), a .npy array, a .csv/.txt
matrix of numbers, a folder of images (with -r, its subfolders' too), a glob that poolcli expands
itself ('photos/**/*.jpg'), or - for standard input. Each channel is pooled on its own. Sizes are
height x width, in the options and in what poolcli prints ("wrote photo.{op}.jpg (400x600 ->
200x300)": 400 rows of 600 pixels made 200 of 300).

One input: without --output, the result is written next to INPUT as STEM.{op}.EXT (photo.jpg ->
photo.{op}.jpg, or photo.{op}.png with --format png) and never over INPUT; a .csv/.txt matrix is
printed to standard output instead. -o DIR/ (a folder that exists, or a name ending in /) writes
STEM.{op}.EXT in it; the folders -o names are made if missing. Standard input goes to standard
output, in its own format or --format, as a pipeline stage would. When standard output carries
the image (-o -, or INPUT -), the report and all messages go to standard error.

Several inputs, a folder, a glob or --files-from: without --output each result is written next
to its input as STEM.{op}.EXT; with -o FOLDER, in FOLDER under the input's own name (--format
changes the extension), mirroring the tree below the folder or glob it was found in. Hidden files
are left out. Up to --jobs images are pooled at once; a progress bar shows on a terminal. A bad
file is one line on standard error and the batch goes on; the end prints how many were done,
skipped and failed (with --quiet only if some failed). --skip-existing resumes a stopped batch;
Ctrl-C or SIGTERM stops it, leaving every written output whole.

A file is never replaced that you did not name: an input whose output STEM.{op}.EXT (or a file in
the -o folder) already exists fails, naming it, unless --overwrite (replace it; every file
replaced is said) or --skip-existing (keep it). -o FILE is written over when it exists.

Exit status: 0 done, 1 an input could not be used or written, 2 bad options, 130/143 stopped by
SIGINT/SIGTERM.

Examples:

\b
  poolcli {op} photo.jpg                    # writes photo.{op}.jpg, half as wide and high
  poolcli {op} lecture-4x4.csv --report     # prints the pooled matrix and its shape report
  poolcli {op} photos -r -o small --format png --skip-existing
  find scans -name '*.tif' -print0 | poolcli {op} --files-from - -0 -o small
  curl -s https://example.org/a.png | poolcli {op} - -k 4 --format webp > small.webp
"""


COMPARE_SUMMARY = "One picture: the input beside its max, avg and min versions."

COMPARE_HELP = f"""{COMPARE_SUMMARY}

Each pooled version is scaled back up with nearest-neighbour resampling, so every output pixel
shows as a block, and is labelled with the op, the window and its output size. Frame 0 of an
animation is shown (or --frame K).

Without --output the picture is written next to INPUT as STEM.compare.png; -o - writes it to
standard output (PNG, or --format).

Exit status: 0 done, 1 the input could not be used or written, 2 bad options.

Examples:

\b
  poolcli compare photo.jpg -k 8            # writes photo.compare.png
  poolcli compare sprite.png -k 2 -o docs/compare.png
"""


EXIT_STATUS = "Exit status: 0 done, 1 an input could not be used or written, 2 bad options."

GLOBAL_SUMMARY = "One value per channel: the average colour or the maximum."

GLOBAL_HELP = f"""{GLOBAL_SUMMARY}

Pools each whole plane of each INPUT to a single value, and prints one line per input (per frame
of an animation) with a value per channel: R, G, B and A for an RGBA image, c0, c1, ... for an
array. --report json prints one JSON object per input instead. avg of an image with transparency
weighs each colour by its alpha (--alpha straight: does not).

Nothing is written unless --output asks for the 1x1 result: a file (one INPUT), a folder
(STEM.global.EXT in it), or - for standard output (then the values go to standard error).

{EXIT_STATUS}

Examples:

\b
  poolcli global photo.jpg                  # photo.jpg: avg R=118.2 G=107.9 B=95.41
  poolcli global shots/*.png --op max --report json
"""


ADAPTIVE_SUMMARY = "Pool to a given output size, as PyTorch's adaptive pooling."

ADAPTIVE_HELP = f"""{ADAPTIVE_SUMMARY}

Output cell i of an axis pools input cells floor(i*H/out) up to ceil((i+1)*H/out): windows of
(nearly) equal size that cover the whole input, for any output size up to the input's. avg of an
image with transparency weighs each colour by its alpha (--alpha straight: does not).

Writes STEM.adaptive.EXT next to INPUT unless --output says otherwise; a .csv/.txt matrix is
printed.

{EXIT_STATUS}

Examples:

\b
  poolcli adaptive photo.jpg --to 64x64 --op max    # writes photo.adaptive.jpg, 64x64
  poolcli adaptive lecture-4x4.csv --to 3
"""


FRACTIONAL_SUMMARY = "Fractional max pooling: shrink by any ratio, reproducibly."

FRACTIONAL_HELP = f"""{FRACTIONAL_SUMMARY}

Graham's fractional max pooling: --size windows at pseudo-random starts, from the first cell to
the last, so that the output is --ratio times the input (or --to). The starts follow PyTorch's
FractionalMaxPool2d; --seed makes them the same run to run. Without --seed one is drawn and
printed.

Writes STEM.fractional.EXT next to INPUT unless --output says otherwise; a .csv/.txt matrix is
printed.

{EXIT_STATUS}

Examples:

\b
  poolcli fractional photo.jpg --ratio 0.7 --seed 1
  poolcli fractional photo.jpg --to 300x400 --size 3 -o small.png
"""


INFO_SUMMARY = "Shape, mode, dtype and frames; the shape pooling would give."

INFO_HELP = f"""{INFO_SUMMARY}

Reads only the header where the format allows (images, .npy), so it is fast on any size. With
pooling options (--size, --stride, ...), also prints the output shape with the size formula
filled in.

{EXIT_STATUS}

Examples:

\b
  poolcli info photo.jpg
  poolcli info photo.jpg -k 3 -s 2 --padding same
  poolcli info shots/*.png --report json
"""


EXPLAIN_SUMMARY = "Pool a small matrix step by step, as the lectures do."

EXPLAIN_HELP = f"""{EXPLAIN_SUMMARY}

INPUT is a .csv/.txt or .npy matrix of up to 16x16 (or - for standard input); without it, the
lectures' 4x4 example. Prints the size formula, then every window position on the matrix (its
cells in brackets; padding as (v) when it counts, as · when it does not), the value it gives and
how, the im2col matrix with one row per window, and the output.

Exit status: 0 done, 1 INPUT could not be read, 2 bad options or a matrix too large.

Examples:

\b
  poolcli explain                           # the lectures' 2x2 max pooling, stride 2
  poolcli explain --op avg -k 3 -s 1 --padding 1 --pad-mode zero
  poolcli explain lecture-6x6.csv --op median -k 3 -s 3
"""
