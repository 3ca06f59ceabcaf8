"""gRPC servicers: proto <-> domain translation only (errors are mapped by
``relay_grpc.interceptors``)."""
