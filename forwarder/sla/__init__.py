"""SLA watch: the working-day calendar, stage clocks per report, the watch and its notices."""
