"""CloudTab relay: gRPC server, domain logic and storage."""
