"""The data sets the library knows by name, with every fact about their files in one place.

Where each comes from (URL, published MD5, pinned SHA-256, byte-identical mirrors), which files it
must hold, how its ratings and movie files are written (separator, header, encoding, rating scale
and step), and which published train/test splits it ships (ML-100K's ``u1``..``u5``, ``ua``, ``ub``)
under which file names.
"""
from __future__ import annotations

from dataclasses import dataclass

GROUPLENS = "https://files.grouplens.org/datasets/movielens"


class DataError(Exception):
    """A data set is missing, could not be fetched, or is malformed."""


@dataclass(frozen=True)
class RatingFormat:
    """How a ratings file is written: one ``user, item, rating, timestamp`` line per rating.

    Ids are positive integers; ratings lie in ``scale`` on multiples of ``step`` above its low end.
    """

    sep: str
    scale: tuple[float, float]
    step: float
    header: tuple[str, ...] = ()  # the exact first line's fields, when the file has a header line
    encoding: str = "latin-1"


@dataclass(frozen=True)
class ItemFormat:
    """How a movie file is written: the movie id and its title are the first two fields."""

    sep: str
    quoted: bool = False  # titles may be CSV-quoted (and then hold the separator)
    header: tuple[str, ...] = ()
    encoding: str = "latin-1"


@dataclass(frozen=True)
class DatasetInfo:
    """Where a MovieLens data set comes from and how its files are laid out."""

    name: str
    url: str
    md5: str | None  # MD5 of the zip as GroupLens publishes it; None: read it from md5_url
    ratings_file: str
    items_file: str
    ratings: RatingFormat
    items: ItemFormat
    canonical_splits: tuple[str, ...] = ()  # published splits, each a <name>.base/<name>.test pair
    # SHA-256 of the zip's fixed published bytes; it authenticates a download from any source, so only a
    # data set that has one may come from a mirror or over TLS whose certificate could not be verified.
    sha256: str | None = None
    mirrors: tuple[str, ...] = ()  # URLs of byte-identical copies of the zip, tried in order after url

    def __post_init__(self):
        if self.mirrors and not self.sha256:
            raise ValueError(f"{self.name}: mirrors need a pinned sha256 to authenticate their bytes")

    @property
    def md5_url(self) -> str:
        return self.url + ".md5"

    @property
    def scale(self) -> tuple[float, float]:
        return self.ratings.scale

    @property
    def required_files(self) -> tuple[str, ...]:
        """The files a folder must hold to be this data set."""
        return self.ratings_file, self.items_file

    def split_files(self, split: str) -> tuple[str, str]:
        """The (training, test) files of a published split, refused unless this data set ships it."""
        if split not in self.canonical_splits:
            ships = (f"it ships {', '.join(self.canonical_splits)}" if self.canonical_splits
                     else "it ships none")
            raise DataError(f"{self.name} has no published split {split!r} ({ships}); "
                            "use make_split(data, 'random') or 'holdout' instead")
        return f"{split}.base", f"{split}.test"


_ML100K_SPLITS = ("u1", "u2", "u3", "u4", "u5", "ua", "ub")

# The recommenders project's byte-identical copies of GroupLens's zips on Hugging Face (its PR #2369,
# https://github.com/recommenders-team/recommenders/pull/2369, "matching SHA-256 for ml-100k, ml-1m,
# ml-10m and ml-20m"). The file path follows the resolve/main/<file> form of that organisation's other
# data sets (Recommenders/MIND); it was not fetched from here (no internet), and the pinned SHA-256
# is what decides whether its bytes are used.
RECOMMENDERS_MIRROR = "https://huggingface.co/datasets/Recommenders/MovieLens/resolve/main"

DATASETS: dict[str, DatasetInfo] = {
    # SHA-256 (4,924,029 bytes) as in tensorflow/datasets tensorflow_datasets/url_checksums/movielens.txt
    # and in NVIDIA/accelerated-computing-hub PR #273 (which pins the same size).
    "ml-100k": DatasetInfo("ml-100k", f"{GROUPLENS}/ml-100k.zip", "0e33842e24a9c977be4e0107933c0723",
                           "u.data", "u.item", RatingFormat("\t", (1.0, 5.0), 1.0),
                           ItemFormat("|"), _ML100K_SPLITS,
                           sha256="50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229",
                           mirrors=(f"{RECOMMENDERS_MIRROR}/ml-100k.zip",)),
    # SHA-256 (5,917,549 bytes) as in tensorflow/datasets url_checksums/movielens.txt, keras-team/keras-io
    # examples/keras_rs/sas_rec.py (its run log shows 5917549 bytes) and tensorflow/examples
    # lite/examples/recommendation/ml/data/example_generation_movielens.py.
    "ml-1m": DatasetInfo("ml-1m", f"{GROUPLENS}/ml-1m.zip", "c4d9eecfca2ab87c1945afe126590906",
                         "ratings.dat", "movies.dat", RatingFormat("::", (1.0, 5.0), 1.0),
                         ItemFormat("::"),
                         sha256="a6898adb50b9ca05aa231689da44c217cb524e7ebd39d264c56e2832f2c54e20",
                         mirrors=(f"{RECOMMENDERS_MIRROR}/ml-1m.zip",)),
    # GroupLens regenerates "latest" snapshots: no bytes to pin, so its checksum is read from the published
    # .md5 file, and (nothing else authenticating them) it is fetched only over verified TLS, never mirrored.
    "ml-latest-small": DatasetInfo("ml-latest-small", f"{GROUPLENS}/ml-latest-small.zip", None,
                                   "ratings.csv", "movies.csv",
                                   RatingFormat(",", (0.5, 5.0), 0.5,
                                                ("userId", "movieId", "rating", "timestamp"), "utf-8"),
                                   ItemFormat(",", True, ("movieId", "title", "genres"), "utf-8")),
}


def dataset_info(name: str) -> DatasetInfo:
    """Look up a data set by name, with an error listing the known names."""
    try:
        return DATASETS[name]
    except KeyError:
        raise DataError(f"unknown data set {name!r}; choose one of {', '.join(DATASETS)}") from None


def canonical_split_names() -> tuple[str, ...]:
    """Every published split name of any registered data set, in registry order."""
    names: list[str] = []
    for info in DATASETS.values():
        names += [s for s in info.canonical_splits if s not in names]
    return tuple(names)
