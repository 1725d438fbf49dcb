"""The gRPC edge of the hub: the only package (with the servers) allowed to import ``grpc``.

The core (envelope, policy, store, PKI, …) stays transport-free; modules here translate between
it and gRPC — e.g. ``hub.grpc.credentials`` turns the dev PKI's files into mutual-TLS credentials.
"""
