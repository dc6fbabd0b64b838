"""A Pandera model's columns as Dagster table-schema metadata (an asset's Columns tab)."""

import dagster as dg
import pandera.pandas as pa


def table_schema(model: type[pa.DataFrameModel]) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name,
                str(column.dtype),
                description=", ".join(c.name for c in column.checks) or None,
                constraints=dg.TableColumnConstraints(nullable=column.nullable, unique=column.unique),
            )
            for name, column in model.to_schema().columns.items()
        ]
    )
