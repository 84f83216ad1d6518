"""`make bench`: cold start, warm CPU, AWS calls, memory, layer size and cost, in one run."""
