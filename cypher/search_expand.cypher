// One more hop of entity-centric expansion: $frontier holds {id, weight} maps, the weight
// being that of the seed the node was reached from (see fragments/expand).
UNWIND $frontier AS item
MATCH (n:Entity {id: item.id})
WITH n, item.weight AS weight
// @include fragments/expand
