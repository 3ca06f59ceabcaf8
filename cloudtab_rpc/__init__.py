"""The cloudtab.v1 RPC contract shared by the relay, the web bridge and the kiosk.

``reasons`` is the one list of error reasons (no grpc import, so relay domain
modules can raise with it); ``status`` packs and unpacks them as a standard
``google.rpc.Status`` with an ``ErrorInfo`` detail.
"""
