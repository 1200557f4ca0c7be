"""Drives the official Python client (PyPI chromadb) for test/integration/python-client*.test.ts.

Reads one JSON object on stdin: {"host", "port", "token", "steps": [{"op": ..., ...}]}, runs the
steps in order with chromadb.HttpClient and prints one JSON object: {"results": [...]} with one
entry per step run, or, when a step raises, {"results": [...], "error": {"step", "type", "message"}}.
Embeddings are always passed explicitly and no collection gets an embedding function, so the client
never loads a model. Integers beyond 2**53 are printed as {"int": "<digits>"}: JSON readers in
JavaScript would round them, and whether they arrived exactly is the point of some tests.
"""

import json
import sys

import chromadb
from chromadb.config import Settings

EXACT_IN_JS = 2**53


def plain(value):
    """Lists instead of numpy arrays; big integers as strings."""
    if hasattr(value, "tolist"):
        return plain(value.tolist())
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int) and abs(value) >= EXACT_IN_JS:
        return {"int": str(value)}
    return value


def from_json(value):
    """The inverse for inputs: {"int": "<digits>"} becomes a Python int."""
    if isinstance(value, dict):
        if set(value) == {"int"}:
            return int(value["int"])
        return {k: from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_json(v) for v in value]
    return value


def run(client, step):
    op = step["op"]
    if op == "heartbeat":
        return client.heartbeat()
    if op == "create_collection":
        c = client.create_collection(name=step["name"], embedding_function=None)
        return {"id": str(c.id), "name": c.name}
    collection = client.get_collection(name=step["name"], embedding_function=None)
    if op == "get_collection":
        return {"id": str(collection.id), "name": collection.name}
    if op == "add":
        collection.add(
            ids=step["ids"],
            embeddings=step["embeddings"],
            documents=step.get("documents"),
            metadatas=from_json(step.get("metadatas")),
        )
        return None
    if op == "query":
        found = collection.query(query_embeddings=step["query_embeddings"], n_results=step["n_results"])
        return {"ids": plain(found["ids"])}
    if op == "get":
        got = collection.get(ids=step["ids"], include=step.get("include", ["documents", "metadatas"]))
        return {k: plain(got[k]) for k in ["ids", *step.get("include", ["documents", "metadatas"])]}
    if op == "count":
        return collection.count()
    if op == "peek":
        return plain(collection.peek(limit=step.get("limit", 10))["ids"])
    raise ValueError(f"unknown step {op}")


def main():
    request = json.load(sys.stdin)
    client = chromadb.HttpClient(
        host=request["host"],
        port=request["port"],
        headers={"Authorization": f"Bearer {request['token']}"},
        settings=Settings(anonymized_telemetry=False),
    )
    results = []
    out = {"results": results}
    for step in request["steps"]:
        try:
            results.append(plain(run(client, step)))
        except Exception as err:  # the test asserts on the client's own error class and message
            out["error"] = {"step": step["op"], "type": type(err).__name__, "message": str(err)}
            break
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
