"""Names of a package imported on first use (PEP 562), so that importing the package loads no torch.

    __getattr__, __dir__ = lazy_names(__name__, {"LSTM": ".lstm", ...}, __all__)

A name in the table comes from its module the first time it is asked for, then stays in the package. Any
other attribute is tried as a submodule (lstmlab.backends), as an eager package would have it. No name
in the table may also be a submodule's: importing the submodule sets the package's attribute to it.
"""
import importlib
import sys


def lazy_names(package, where, exported):
    """(__getattr__, __dir__) for the package named ``package``: name -> ".module" in ``where``."""
    namespace = vars(sys.modules[package])

    def __getattr__(name):
        if name in where:
            value = getattr(importlib.import_module(where[name], package), name)
            namespace[name] = value                   # once: later lookups do not come back here
            return value
        try:                                          # a submodule, as before: lstmlab.backends.BACKENDS
            return importlib.import_module(f".{name}", package)
        except ModuleNotFoundError as error:
            if error.name != f"{package}.{name}":
                raise
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__():
        return sorted(set(namespace) | set(exported))

    return __getattr__, __dir__
