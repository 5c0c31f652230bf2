"""The exceptions the library raises, and the one table from C status codes
to them.

Every error from the library is a ``ZarrError``, itself a ``RuntimeError``, so
code written for acquire-zarr (which raises ``RuntimeError`` for everything)
keeps catching them; each one is also the precise builtin type that says what
went wrong (``ValueError`` for bad settings, ``OSError`` for storage, ...).
"""

from __future__ import annotations

from typing import Dict, Type


class ZarrError(RuntimeError):
    """Any failure reported by the library."""


class InvalidSettingsError(ValueError, ZarrError):
    """Settings refused; the message names the field and the value."""


class InvalidArgumentError(ValueError, ZarrError):
    """An argument refused (not JSON, a reserved metadata key, ...)."""


class OverflowWriteError(ValueError, ZarrError):
    """An append past the end of a bounded array; nothing beyond the array's
    end was written (``WriteOutOfBounds`` on a stream built from arrays: the
    whole append was refused)."""


class ArrayKeyError(KeyError, ZarrError):
    """No array of the stream has the key given."""

    def __str__(self) -> str:
        # KeyError quotes its argument; this one is a sentence.
        return str(self.args[0]) if self.args else ""


class StorageError(OSError, ZarrError):
    """The store refused a read, write or sync."""


class WillNotOverwriteError(FileExistsError, ZarrError):
    """Refused to replace existing data."""


class NotYetImplementedError(NotImplementedError, ZarrError):
    """A feature the library does not provide."""


class ZarrMemoryError(MemoryError, ZarrError):
    """An allocation failed."""


# ZarrStatusCode values (include/zarr.types.h) to the exception raised for
# them; codes not listed (InternalError, CompressionError, PartialWrite and
# any later one) raise ZarrError itself.
_BY_STATUS: Dict[int, Type[ZarrError]] = {
    1: InvalidArgumentError,    # InvalidArgument
    2: OverflowWriteError,      # Overflow
    3: InvalidArgumentError,    # InvalidIndex
    4: NotYetImplementedError,  # NotYetImplemented
    6: ZarrMemoryError,         # OutOfMemory
    7: StorageError,            # IOError
    9: InvalidSettingsError,    # InvalidSettings
    10: WillNotOverwriteError,  # WillNotOverwrite
    12: OverflowWriteError,     # WriteOutOfBounds
    13: ArrayKeyError,          # KeyNotFound
}


def for_status(code: int) -> Type[ZarrError]:
    """The exception class for a ZarrStatusCode (called by the binding)."""
    return _BY_STATUS.get(code, ZarrError)
