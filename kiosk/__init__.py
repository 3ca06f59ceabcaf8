"""CloudTab kiosk: the shop's touchscreen app (Kivy UI in kiosk.ui, domain core in kiosk.core)."""

from cloudtab_rpc.version import VERSION as __version__  # noqa: F401 - one version string
