"""The published marts the readouts read, found as a consumer finds them: the dbt manifest names
each public mart's versions, consumer schema (meta.publish_schema) and contract columns, and the
database says which versions are published.

A section of a page that needs a mart, or columns a later version of a mart adds, states them as
`Needs` and asks for them here (`Marts.get`): it appears once they are published.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
import psycopg
from psycopg import sql
from psycopg.types.numeric import FloatLoader

from .. import db
from ..dbt import read_artifact, run_dbt
from ..quality import Mart, public_marts, published_relations


def load_manifest(env: dict[str, str], target_path: str | None = None) -> dict:
    """The manifest of the last dbt invocation in target_path, or a fresh `dbt parse` when there is
    none (the manifest describes the project, not the data: parsing needs no build)."""
    manifest = read_artifact("manifest.json", target_path, required=False)
    if manifest is None:
        run_dbt(["parse"], env, target_path=target_path, capture=True)
        manifest = read_artifact("manifest.json", target_path)
    return manifest


@dataclass(frozen=True)
class Needs:
    """What a section reads: a public mart and the columns its contract must have."""

    mart: str
    columns: tuple[str, ...]

    def describe(self) -> str:
        return f"{self.mart} with columns {', '.join(self.columns)}"


def _version(mart: Mart) -> int:
    return int(mart.version or 0)


@dataclass
class Marts:
    """The latest published version of every public mart of a warehouse."""

    env: dict[str, str]
    latest: dict[str, Mart]
    declared: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, env: dict[str, str], manifest: dict) -> Marts:
        marts = public_marts(manifest)
        present = published_relations(env, marts)
        latest: dict[str, Mart] = {}
        for mart in marts:
            if mart.relation in present and (mart.name not in latest or _version(mart) > _version(latest[mart.name])):
                latest[mart.name] = mart
        return cls(env, latest, {m.name for m in marts})

    def get(self, needs: Needs) -> Mart | None:
        """The latest published version of the mart a section needs, if its contract has every column it needs."""
        mart = self.latest.get(needs.mart)
        return mart if mart is not None and set(needs.columns) <= set(mart.columns) else None

    def frame(self, mart: Mart, query: str = "select * from {relation}", params: tuple = ()) -> pd.DataFrame:
        """Rows of a published mart: `query` with {relation} its consumer relation."""
        relation = sql.Identifier(mart.publish_schema, mart.alias)
        statement = sql.SQL(query).format(relation=relation)
        with db.connect(self.env) as conn:
            conn.adapters.register_loader("numeric", FloatLoader)  # numbers for the charts, not Decimal
            cur = conn.cursor(row_factory=psycopg.rows.dict_row)
            rows = cur.execute(statement, params).fetchall()
            names = [c.name for c in cur.description]
        return pd.DataFrame(rows, columns=names)
