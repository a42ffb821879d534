"""The declared entity types and relations: the model, its checks, its files (with file:line
errors), the built-in ones, and how Neo4j Browser draws them. Internal."""
