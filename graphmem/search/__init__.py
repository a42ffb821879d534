"""Retrieval: the modes, their lists and fusion, the associative walk, the result types. Internal."""
