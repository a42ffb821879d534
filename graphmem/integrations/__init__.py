"""graphmem inside agent frameworks: one module per framework, each needing that framework's own
package, installed with its extra (`pip install "graphmem[langgraph]"`, ...). Importing a
module whose framework is missing fails with an error naming the extra.

Scopes map explicitly, as each module's docstring says; no adapter can reach a scope other than
the one it was given (or that its framework's namespace names, for the LangGraph store)."""
