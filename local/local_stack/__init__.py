"""The embedded local stack: moto as AWS, the real handlers behind a local API Gateway."""

# The banner's last line: what local_stack.process waits for before handing over the output.
READY = "Ready:"
