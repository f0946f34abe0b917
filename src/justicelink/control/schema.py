"""Control-plane tables (SQLAlchemy Core): one schema for SQLite and PostgreSQL.

The tables that grant access (users and roles, tokens, project members, project states and
decisions, output requests, their files and reviews) change only together with the audit entry
that records the change, in one transaction; ``control audit verify`` replays the log against
them.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

users = Table(
    "users",
    metadata,
    Column("username", String(64), primary_key=True),
    Column("display_name", String(200), nullable=False),
    Column("role", String(32), nullable=False),
    Column("password_hash", String(200), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("token_id", String(32), primary_key=True),
    Column("username", String(64), ForeignKey("users.username"), nullable=False),
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("scopes", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Column("label", String(64), nullable=False, default=""),
)

projects = Table(
    "projects",
    metadata,
    Column("project_id", String(4), primary_key=True),
    Column("title", String(300), nullable=False),
    Column("purpose", Text, nullable=False),
    Column("lay_summary", Text, nullable=False),
    Column("applicant", String(64), ForeignKey("users.username"), nullable=False),
    Column("status", String(32), nullable=False),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

project_datasets = Table(
    "project_datasets",
    metadata,
    Column("project_id", String(4), ForeignKey("projects.project_id"), primary_key=True),
    Column("dataset", String(16), primary_key=True),
    Column("bank_table", String(64), primary_key=True),
    Column("columns", JSON, nullable=False),
)

project_members = Table(
    "project_members",
    metadata,
    Column("project_id", String(4), ForeignKey("projects.project_id"), primary_key=True),
    Column("username", String(64), ForeignKey("users.username"), primary_key=True),
)

decisions = Table(
    "decisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("project_id", String(4), ForeignKey("projects.project_id"), nullable=False),
    Column("decided_by", String(64), ForeignKey("users.username"), nullable=False),
    Column("decision", String(32), nullable=False),
    Column("reason", Text, nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=False),
)

output_requests = Table(
    "output_requests",
    metadata,
    Column("request_id", String(9), primary_key=True),
    Column("project_id", String(4), ForeignKey("projects.project_id"), nullable=False),
    Column("author", String(64), ForeignKey("users.username"), nullable=False),
    Column("state", String(32), nullable=False),
    Column("round", Integer, nullable=False),
    Column("title", String(300), nullable=False),
    Column("description", Text, nullable=False),
    Column("sql", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

output_files = Table(
    "output_files",
    metadata,
    Column("request_id", String(9), ForeignKey("output_requests.request_id"), primary_key=True),
    Column("name", String(200), primary_key=True),
    Column("output", String(64), nullable=False),  # ACRO's output id (output_0, ...)
    Column("status", String(16), nullable=False),  # pass / review / fail, after differencing
    Column("sha256", String(64), nullable=False),
    Column("justification", Text, nullable=False),
)

output_reviews = Table(
    "output_reviews",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_id", String(9), ForeignKey("output_requests.request_id"), nullable=False),
    Column("round", Integer, nullable=False),
    Column("checker", String(64), ForeignKey("users.username"), nullable=False),
    Column("vote", String(16), nullable=False),
    Column("comment", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("request_id", "round", "checker"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", String(40), nullable=False),
    Column("actor", String(80), nullable=False),
    Column("action", String(80), nullable=False),
    Column("object", String(200), nullable=False),
    Column("details", Text, nullable=False),
    Column("on_behalf_of", String(80), nullable=True),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    UniqueConstraint("hash"),
)
