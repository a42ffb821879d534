// The cheapest statement: the managed server's start-up waits until the home database answers it.
RETURN 1 AS one
