"""The MCP and REST servers over AsyncGraphMemory, the shapes they share, the bearer token,
which scope an MCP call gets, and running them under uvicorn. Internal."""
