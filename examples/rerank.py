"""Rerank: documents ordered by relevance to a query."""

from __future__ import annotations

from meganova import MegaNova

documents = ["a ferry timetable", "the noodle stand on Pier Nine", "noodles and tea at the stand"]
with MegaNova() as client:
    ranked = client.rerank.create("noodle stand", documents, model="BAAI/bge-reranker-v2-m3", top_n=2)
    for result in ranked.results:
        print(f"{result.relevance_score:.3f}  {documents[result.index]}")
