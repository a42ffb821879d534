"""The search's scope cache: scopes held in this process, their lists ranked in memory, and
this process's writes folded in. Internal."""
