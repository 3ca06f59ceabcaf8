"""`cloudtab up`: the whole system on one machine (relay, upload page, kiosk)."""
