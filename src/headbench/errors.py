"""Errors a user can fix (bad params, data, tracking set-up, a diverging run), and a command whose tool failed. The
wrapper of every stage script and command (`headbench.cli.main`) prints any of them as one line and exits 2 (a
`UserError`) or with the failed tool's code (`CommandFailed`). Nothing here imports headbench."""


class UserError(Exception):
    """Base of every error that is the input's fault, not headbench's."""


class ParamError(UserError, ValueError):
    """A params.yaml value is missing, of the wrong type or out of range."""


class DataError(UserError, ValueError):
    """The data file is missing, malformed, or has bad rows."""


class UnsupportedModel(UserError, ValueError):
    """The encoder's architecture is not one headbench knows how to split into layers."""


class TrackingError(UserError, RuntimeError):
    """MLflow cannot be reached or written."""


class NonFiniteLoss(UserError, RuntimeError):
    """The training loss became NaN or infinite."""


class StudyError(UserError, RuntimeError):
    """Missing stage outputs, or a worker that could not be set up."""


class CommandFailed(Exception):
    """A tool a command ran (a train stage, `dvc repro`, `dvc exp show`) failed; ``code`` is the exit code to pass on."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code
