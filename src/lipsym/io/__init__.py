"""The io layer: photos in (any readable image, upright 8-bit RGB), files out, collections to analyse.

Nothing here knows about faces. Every photo lipsym measures enters through
:func:`load_photo`, which decides the format by content, decodes strictly
(damaged data is an error, never a silently wrong image) and within a fixed
memory ceiling; see ``docs/photos.md``.

- :func:`load_photo` / :func:`read_header` / :func:`read_photo_bytes` →
  :class:`Photo` / :class:`PhotoHeader`; :func:`choose_reduction` picks a
  reduced decode; :func:`photo_from_array` wraps an in-memory image;
  :func:`load_region` crops at full resolution;
- :func:`discover` / :func:`read_manifest` → :class:`Collection` of
  :class:`Item` s (rest/smile pairs or single photos);
- :func:`write_atomic` writes an output file all at once, never over an
  existing file unasked.
"""

from .._lazy import attach

__getattr__, __dir__, __all__ = attach(__name__, {
    "_photo": ["Photo", "load_photo", "load_region", "photo_from_array", "read_photo_bytes", "choose_reduction"],
    "_header": ["PhotoHeader", "read_header"],
    "_limits": ["MAX_PIXELS", "MIN_SIDE_PX", "REDUCTIONS", "MEMORY_CEILING_BYTES"],
    "_sniff": ["SUPPORTED_FORMATS"],
    "_collection": ["Collection", "CollectionError", "Item", "Problem", "discover", "discover_folder",
                    "read_manifest", "is_photo_file", "manifest_delimiter", "IMAGE_EXTENSIONS", "MANIFEST_COLUMNS",
                    "PAIR_NAME"],
    "_outputs": ["write_atomic", "make_output_dir", "output_file_mode", "outputs_shared", "sharing_outputs",
                 "SHARE_ENV"],
})
