"""One error type per area. The CLI turns any GroundupError into one line and exit code 2."""


class GroundupError(Exception):
    """Base class: a problem the user can act on (bad input, bad config), not a bug."""


class DataError(GroundupError):
    """Unreadable, empty, binary or malformed input data."""


class ConfigError(GroundupError, ValueError):
    """A configuration value or override that is unknown or out of range."""


class ModelFormatError(GroundupError):
    """A model or vector file that is malformed or truncated (ARPA, word2vec, checkpoint)."""


class TrainingError(GroundupError):
    """Training cannot go on (NaN/inf loss, a config that cannot fit the data)."""


class OutputError(GroundupError, OSError):
    """An output that cannot or must not be written (an input, a folder, another run's file,
    a locked folder, a full disk); an OSError too, for callers that catch write failures."""


class GroundupWarning(UserWarning):
    """Something the user may want to act on that does not stop the run (text that looks
    unsegmented under ``--tokenizer word``); the CLI prints it as one line
    ``groundup: warning: ...`` on standard error."""
