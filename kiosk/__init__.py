"""CloudTab kiosk: the shop's touchscreen app (Kivy UI in kiosk.ui, domain core in kiosk.core)."""

__version__ = "0.1.0"
