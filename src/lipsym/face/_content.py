"""Does the skin of the detected face look like skin? A last check against damaged photos.

A damaged HEIC, WebP or JPEG can decode without a word from any decoder
into a photo whose face is partly garbage: blocks of saturated colour,
checkerboards and streaks where the cheek was (docs/photos.md). The loader's
own checks (:mod:`lipsym.io._plausible`) judge the codec's block grid over
the whole image; this one judges what the measurement rests on, the skin of
the face MediaPipe found, and so works for every format alike, including
lossless WebP and GIF, whose garbage has no grid.

The skin region: the face oval (MediaPipe's silhouette) minus the lips and
the eyes with their brows, whose colour and texture differ from skin by
nature (lipstick, eyelashes, glasses frames). It is resampled so that the
interpupillary distance is :data:`WORK_IPD_PX`, so the figures do not depend
on the photo's resolution. Four measures, any of which refuses the photo:

- **colour outliers**: the share of skin pixels whose CIELAB chroma (a*, b*)
  lies more than :data:`OUTLIER_AB` from the skin's median colour. A colour
  cast moves the median with the pixels, so it does not count; cyan, green
  or magenta garbage on a face does;
- **saturation for the lightness**: the chroma of the skin's median colour over its lightness,
  C*/L*. A dim photo of skin is dark *and* muted; a damaged luminance (a JPEG's DC values, a lost
  VP8 or HEVC luma plane) leaves the colour and takes the light, a dark, saturated face that no
  exposure of skin gives;
- **roughness**: the 95th percentile of the luminance's high-frequency part
  (grey minus its Gaussian blur, sigma 1 px at the working scale). Skin,
  even bearded, noisy or sharpened, is smooth at that scale; garbage is not;
- **seam**: the largest offset between two skin rows 2 working px apart, as
  the CIELAB distance of the row's median signed difference, over the rows
  from the top of the brows to above the chin. A damaged JPEG block value
  or a band of blocks decoded out of place offsets the colour of everything
  below (or inside) it by one constant along a straight row; the face's own
  edges (nose, lips, eyes) cover a small part of a row and move its median
  little, and the shadow under the chin, the largest natural offset, is left
  out.

The thresholds were chosen on data (docs/accuracy.md "Constants chosen on
data"; figures in docs/photos.md): the 132 photos under ``shared/data`` and
``sample_images/`` (colour outliers 0 %, roughness at most 9.2),
26 of them re-rendered with sensor noise (SD 8 and 15 grey levels), JPEG
q 15-20, strong colour casts and 2x sharpening (at most 0.61 % and 15.0),
against the face mutants of ``benchmarks/fuzz_measured.py`` (seed 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from lipsym.errors import CorruptPhotoError

#: The interpupillary distance the skin region is resampled to, px.
WORK_IPD_PX = 100.0
#: ... unless the face's box would then be longer than this, px. A frontal
#: face's box is about 200 x 250 px at WORK_IPD_PX; a head seen in profile
#: has its pupils nearly on each other, and scaling its box to the IPD asked
#: for a crop of several thousand px a side (landmarks turned by 90°: 11 s
#: and 3.6 GB for one photo).
MAX_WORK_SIDE_PX = 600
#: A skin pixel whose (a*, b*) lies further than this from the skin's median is a colour outlier.
OUTLIER_AB = 50.0
#: Share of skin pixels that may be colour outliers (intact photos: at most 0.002; strong colour
#: casts: 0.0061; decoded garbage on the face: 0.01-0.4).
MAX_OUTLIER_SHARE = 0.01
#: Largest chroma over lightness, C*/L*, of the skin's median colour (the 132 photos: at most 0.78;
#: their 1452 renderings, down to L* 8 with gamma 1.8 of a dim photo: 1.57; damaged JPEG
#: luminance, fuzz_measured seeds 0 and 2: 3.8-4.9).
MAX_CHROMA_PER_LIGHTNESS = 2.5
#: Largest seam, CIELAB units (L* 0-100) between rows 2 working px apart (intact photos: at most
#: 5.1; renderings with noise, JPEG q 15, casts or sharpening: 9.3; damaged bands and block-value
#: steps across the face: 32.7-43.5; docs/photos.md "The seam").
MAX_SEAM = 15.0
#: Rows this close (working px) above the chin are not judged for a seam: the shadow under it.
_SEAM_CHIN_MARGIN_PX = 10
#: The bands compared across a seam are this many rows high (working px).
_SEAM_BAND_PX = 8
#: A row is judged for a seam when it holds at least this many skin pixels (working px).
_SEAM_MIN_PIXELS = 25
#: Largest 95th percentile of the skin's high-frequency luminance, grey levels at the working
#: scale (intact photos: at most 9.2; noisy, low-quality or sharpened renderings: 15.0; garbage:
#: 12-77).
MAX_ROUGHNESS = 20.0

# MediaPipe face-mesh vertices (canonical mesh numbering).
_FACE_OVAL = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
              152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109)
_LIPS_OUTER = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185)
_EYE_AND_BROW = (
    (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246,
     70, 63, 105, 66, 107, 55, 65, 52, 53, 46),
    (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466,
     300, 293, 334, 296, 336, 285, 295, 282, 283, 276),
)
_PUPILS = (468, 473)
#: Margin kept around the lips and the eyes, working px (a tenth of the IPD).
_MARGIN_PX = 10


@dataclass(frozen=True)
class SkinContent:
    """What the face's skin looks like, at the working scale (IPD :data:`WORK_IPD_PX` px).

    Attributes
    ----------
    outlier_share : float
        Share (0-1) of skin pixels further than :data:`OUTLIER_AB` from the skin's median (a*, b*).
    chroma_per_lightness : float
        C*/L* of the skin's median colour (L* at least 1).
    roughness : float
        95th percentile of the high-frequency luminance, grey levels.
    seam : float
        Largest CIELAB offset between skin rows 2 px apart (median signed difference).
    """

    outlier_share: float = 0.0
    chroma_per_lightness: float = 0.0
    roughness: float = 0.0
    seam: float = 0.0


def skin_content(rgb: np.ndarray, points_px: np.ndarray) -> SkinContent:
    """Colour outliers, saturation, roughness and seam of the face's skin.

    Parameters
    ----------
    rgb : ndarray, shape (H, W, 3), uint8
        The decoded photo.
    points_px : ndarray, shape (478, 2 or more), float
        MediaPipe's landmarks in ``rgb``'s pixels.

    Returns
    -------
    SkinContent
        All zero when the face is too small or too degenerate to judge.

    Examples
    --------
    >>> import numpy as np
    >>> rgb = np.full((400, 400, 3), (200, 150, 120), np.uint8)
    >>> t = np.linspace(0, 2 * np.pi, 478)
    >>> pts = np.c_[200 + 150 * np.cos(t), 200 + 180 * np.sin(t)]
    >>> pts[468], pts[473] = (150, 160), (250, 160)
    >>> skin_content(rgb, pts)
    SkinContent(outlier_share=0.0, chroma_per_lightness=0.0, roughness=0.0, seam=0.0)
    """
    pts = np.asarray(points_px, dtype=np.float64)[:, :2]
    ipd = float(np.linalg.norm(pts[_PUPILS[0]] - pts[_PUPILS[1]]))
    if not np.isfinite(ipd) or ipd <= 1.0:
        return SkinContent()
    oval = pts[list(_FACE_OVAL)]
    x0, y0 = np.maximum(np.floor(oval.min(axis=0)).astype(int), 0)
    x1, y1 = np.minimum(np.ceil(oval.max(axis=0)).astype(int), (rgb.shape[1], rgb.shape[0]))
    if x1 - x0 < 4 or y1 - y0 < 4:
        return SkinContent()
    s = min(WORK_IPD_PX / ipd, MAX_WORK_SIDE_PX / max(x1 - x0, y1 - y0))
    size = (max(8, round((x1 - x0) * s)), max(8, round((y1 - y0) * s)))
    # INTER_AREA when shrinking (averages, like a lower-resolution photo); linear when enlarging.
    crop = cv2.resize(np.ascontiguousarray(rgb[y0:y1, x0:x1]), size,
                      interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)

    def poly(indices) -> np.ndarray:
        return np.round((pts[list(indices)] - (x0, y0)) * s).astype(np.int32)

    mask = np.zeros(crop.shape[:2], np.uint8)
    cv2.fillPoly(mask, [cv2.convexHull(poly(_FACE_OVAL))], 1)
    holes = np.zeros_like(mask)
    for part in (_LIPS_OUTER, *_EYE_AND_BROW):
        cv2.fillPoly(holes, [cv2.convexHull(poly(part))], 1)
    holes = cv2.dilate(holes, np.ones((2 * _MARGIN_PX + 1,) * 2, np.uint8))
    skin = (mask == 1) & (holes == 0)
    if skin.sum() < 100:
        return SkinContent()
    # 8-bit CIELAB keeps a* and b* in their own units (offset by 128), to a unit: enough against a
    # distance of 50, and ten times faster than the float conversion (the whole crop, about 200 x
    # 250 px at this scale). Every 3rd skin pixel is judged: a share or a median needs no more (at
    # least 2,000 of them).
    lab = cv2.cvtColor(crop, cv2.COLOR_RGB2Lab)
    ab = lab[:, :, 1:].astype(np.float32)
    sampled = ab[skin][::3]
    median = np.median(sampled, axis=0)
    lightness = float(np.median(lab[:, :, 0][skin][::3])) * 100.0 / 255.0  # 8-bit L is L* x 255 / 100
    outliers = np.hypot(*(sampled - median).T) > OUTLIER_AB
    grey = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY).astype(np.float32)
    high = np.abs(grey - cv2.GaussianBlur(grey, (0, 0), 1.0))[skin]
    brow_top = min(float(poly(part[16:])[:, 1].min()) for part in _EYE_AND_BROW)
    chin = float(poly((152,))[0, 1])
    return SkinContent(outlier_share=float(outliers.mean()),
                       chroma_per_lightness=float(np.hypot(*(median - 128.0))) / max(lightness, 1.0),
                       roughness=float(np.percentile(high, 95)), seam=_seam(crop, skin, brow_top, chin))


def _seam(crop: np.ndarray, skin: np.ndarray, top: float, chin: float) -> float:
    """Largest CIELAB offset between skin rows 2 px apart that persists, from row ``top`` to above ``chin``.

    Per row: the median over the row's skin of the signed difference 2 px
    down, and of the difference between the medians of the
    :data:`_SEAM_BAND_PX` rows below and above; the smaller of the two norms. A step (a damaged block value)
    is large in both; a thin dark line (a glasses rim, a crease) only in the
    first, a gradual shading only in the second.
    """
    w = _SEAM_BAND_PX
    first, last = max(w, int(top)), min(crop.shape[0] - 2 - w, int(chin) - _SEAM_CHIN_MARGIN_PX)
    if last <= first:
        return 0.0
    lab = cv2.cvtColor(crop.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
    rows = np.arange(first, last)
    both = skin[rows - w] & skin[rows] & skin[rows + 2] & skin[rows + 1 + w]
    judged = both.sum(axis=1) >= _SEAM_MIN_PIXELS
    # Every row's median step over its skin at once: non-skin set to NaN, which sorts last.
    step = np.where(both[:, :, None], lab[rows + 2] - lab[rows], np.nan)
    near_all = np.linalg.norm(_row_medians(step), axis=1)
    near = {int(r): float(v) for r, v in zip(rows[judged], near_all[judged])}
    # The bands' medians cost more: they are taken for the rows whose step is largest first, and
    # no further once a row's step is below the best seam so far (the result is the same).
    seam = 0.0
    for r in sorted(near, key=near.get, reverse=True):
        if near[r] <= seam:
            break
        # Per pixel, the median of the w rows above row r and of the w rows below row r + 1: a
        # median, so a line thinner than w / 2 rows (a glasses rim, a crease) does not move it.
        mask = both[r - first]
        above = np.median(lab[r - w:r][:, mask], axis=0)
        below = np.median(lab[r + 2:r + 2 + w][:, mask], axis=0)
        seam = max(seam, min(near[r], float(np.linalg.norm(np.median(below - above, axis=0)))))
    return seam


def _row_medians(values: np.ndarray) -> np.ndarray:
    """Median along axis 1 of ``values`` (rows, n, channels), ignoring NaN; NaN for an all-NaN row.

    ``np.nanmedian`` gives the same but loops in Python over the rows of an
    array this size (7 ms a photo here, against well under 1 ms sorted).
    """
    ordered = np.sort(values, axis=1)  # NaN last
    count = np.sum(~np.isnan(values[:, :, 0]), axis=1)
    low = np.clip((count - 1) // 2, 0, None)
    high = np.clip(count // 2, 0, values.shape[1] - 1)
    take = np.arange(len(values))
    out = 0.5 * (ordered[take, low] + ordered[take, high])
    out[count == 0] = np.nan
    return out


def check_skin_content(rgb: np.ndarray, points_px: np.ndarray) -> None:
    """Raise :class:`~lipsym.errors.CorruptPhotoError` when the face's skin looks like decoded garbage.

    Parameters and measures as in :func:`skin_content`.
    """
    content = skin_content(rgb, points_px)
    if content.outlier_share > MAX_OUTLIER_SHARE:
        raise CorruptPhotoError(
            f"{content.outlier_share:.0%} of the face's skin has colours far from the rest of it "
            f"(limit {MAX_OUTLIER_SHARE:.0%}): the photo looks damaged (decoded garbage on the face)")
    if content.chroma_per_lightness > MAX_CHROMA_PER_LIGHTNESS:
        raise CorruptPhotoError(
            f"the face's skin is {content.chroma_per_lightness:.1f} times as saturated as it is light "
            f"(C*/L*, limit {MAX_CHROMA_PER_LIGHTNESS}): the photo looks damaged (its brightness decoded wrongly)")
    if content.roughness > MAX_ROUGHNESS:
        raise CorruptPhotoError(
            f"the face's skin is {content.roughness:.0f} grey levels rough at fine scale "
            f"(limit {MAX_ROUGHNESS:.0f}): the photo looks damaged (decoded garbage on the face)")
    if content.seam > MAX_SEAM:
        raise CorruptPhotoError(
            f"the face's colour jumps by {content.seam:.0f} CIELAB units from one row to the next across its width "
            f"(limit {MAX_SEAM:.0f}): the photo looks damaged (a band or block value decoded wrongly)")
