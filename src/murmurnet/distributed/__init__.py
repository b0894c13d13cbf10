"""Running one murmur across processes and nodes: the Redis blackboard (`boards`,
`redis_board`, `redis_watch`); predictive scaling advice from Prometheus series (`forecast`,
experimental); the endpoint pool, one model on several OpenAI-compatible servers (`pool`,
with `balance`, `breaker`, `health`, `endpoint`), which registers as the `pool` backend;
`serve --ray`, the API as a Ray Serve ingress and each model as autoscaled replicas that a
round fails over between (`ray_app`, `ray_replica`, `ray_backend`, `ray_run`).

Nothing here is imported by the core; the edges (CLI, server) pick what the configuration
names. Optional packages are imported only by the modules that need them.
"""
