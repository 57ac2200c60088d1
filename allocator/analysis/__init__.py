"""Many solves of one compiled problem: what-if tables, incremental cost, frontiers, batch jobs."""
