"""The murmur: rounds of agents on a blackboard, agreement, and the output agent."""
