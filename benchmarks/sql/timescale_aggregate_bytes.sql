-- Bytes of the three continuous aggregates' materialization hypertables together.
SELECT sum(hypertable_size(format('%I.%I', materialization_hypertable_schema, materialization_hypertable_name)))
FROM timescaledb_information.continuous_aggregates
