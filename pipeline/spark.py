"""Label an archive on Spark: the same segmenter and labeller as ``argmine label``, on executors.

The driver reads the input into one DataFrame of articles (``doc_id``, ``text``, ``source``, and an
``error`` where a row or file is not an article), ships the model folder to the executors
(``SparkContext.addFile``: a folder, or an MLflow registry model downloaded once on the driver),
and runs ``label_partition`` over it with ``mapInPandas``: each Python worker loads the
``Labeller`` once and labels its articles in batches, exactly as ``label`` does (same units, same
context, same blend, same thresholds). A bad article becomes an article row with an ``error``, not
a failed job.

Outputs, two Parquet datasets in ``OUT``: ``units/`` (one row per unit: the codebook fields,
``labels`` and a ``score_<label>`` column per label) and ``articles/`` (one row per article: the
columns of ``articles.csv``, plus ``error``). Both are written into a staging folder beside
``OUT`` and renamed into place at the end through Hadoop's FileSystem, so ``OUT`` appears whole or
not at all (a rename is atomic on local disks and HDFS; object stores copy).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

from .errors import InputError, PipelineError
from .label import ARTICLE_COLUMNS
from .schema import LABELS

SCORE_COLUMNS = [f"score_{label}" for label in LABELS]


def result_schema():
    """One row per article, its units nested (unnested into the two datasets afterwards)."""
    from pyspark.sql import types as T

    unit = T.StructType([
        T.StructField("unit_id", T.StringType()), T.StructField("start", T.IntegerType()),
        T.StructField("end", T.IntegerType()), T.StructField("text", T.StringType()),
        T.StructField("labels", T.ArrayType(T.StringType())),
        *(T.StructField(c, T.DoubleType()) for c in SCORE_COLUMNS),
    ])
    return T.StructType([
        T.StructField("doc_id", T.StringType()), T.StructField("source", T.StringType()),
        T.StructField("n_units", T.IntegerType()),
        *(T.StructField(f"share_{lab}", T.DoubleType()) for lab in LABELS),
        T.StructField("share_none", T.DoubleType()), T.StructField("dominant_label", T.StringType()),
        T.StructField("stance_balance", T.DoubleType()), T.StructField("stance", T.StringType()),
        T.StructField("error", T.StringType()), T.StructField("units", T.ArrayType(unit)),
    ])


# -- executors ----------------------------------------------------------------------------------------

_LABELLER = None


def _labeller(model_name: str, device: str, precision: str, threads: int):
    """The worker's Labeller, loaded once per Python worker (Spark reuses workers between tasks)."""
    global _LABELLER
    if _LABELLER is None:
        from pyspark import SparkFiles

        from .predict import Labeller

        local = Path(SparkFiles.get(model_name))
        _LABELLER = Labeller(local if local.exists() else Path(model_name), device=device, precision=precision)
        if _LABELLER.device == "cpu":
            import torch

            torch.set_num_threads(threads)  # one task a core: the tasks beside it share the machine
    return _LABELLER


def _article_rows(labeller, batch: list) -> list[dict]:
    from .label import article_summary, label_articles

    rows = []
    for article, units in (pair for part in label_articles(labeller, batch) for pair in part):
        row = article_summary(article, units)
        row["stance_balance"] = None if row["stance_balance"] == "" else row["stance_balance"]
        row["error"] = None
        row["units"] = [{"unit_id": u.unit_id, "start": u.start, "end": u.end, "text": u.text, "labels": list(u.labels),
                         **{f"score_{lab}": float(u.scores[lab]) for lab in LABELS}} for u in units]
        rows.append(row)
    return rows


def _error_row(doc_id, source, message: str) -> dict:
    return {"doc_id": doc_id, "source": source, "n_units": 0, "error": message, "units": []}


def label_partition(frames: Iterator, *, model_name: str, device: str, precision: str, threads: int) -> Iterator:
    """mapInPandas body: articles in (doc_id, text, source, error), labelled articles out."""
    import pandas as pd

    from .sources import Article

    labeller = None
    columns = [f.name for f in result_schema().fields]
    for frame in frames:
        rows, batch = [], []
        for doc_id, text, source, error in zip(frame["doc_id"], frame["text"], frame["source"], frame["error"]):
            if isinstance(error, str) and error:
                rows.append(_error_row(doc_id, source, error))
            elif not isinstance(doc_id, str) or not doc_id:
                rows.append(_error_row(None, source, "no id"))
            elif not isinstance(text, str) or not text.strip():
                rows.append(_error_row(doc_id, source, "empty text"))
            else:
                batch.append(Article(doc_id, text, source))
        if batch:
            labeller = labeller or _labeller(model_name, device, precision, threads)
            try:
                rows += _article_rows(labeller, batch)
            except Exception:  # noqa: BLE001 (one bad article must not sink its batch: retry one by one)
                for article in batch:
                    try:
                        rows += _article_rows(labeller, [article])
                    except Exception as err:  # noqa: BLE001 (reported as the article's error row)
                        rows.append(_error_row(article.doc_id, article.source, f"{type(err).__name__}: {err}"))
        yield pd.DataFrame([{c: r.get(c) for c in columns} for r in rows], columns=columns)


def decode_file(path: str, content: bytes) -> tuple[str | None, str | None, str | None]:
    """(doc_id, text, error) of one file read by Spark's binaryFile source, as ``label`` reads it."""
    from .sources import SourceError, file_article

    local = path.split(":", 1)[-1] if path.startswith("file:") else path
    article = file_article(Path(local), content or b"")
    if isinstance(article, SourceError):
        return Path(local).stem, None, article.message
    return article.doc_id, article.text, None


# -- driver --------------------------------------------------------------------------------------------


def input_kind(path: str) -> str:
    p = Path(path)
    if p.is_dir() and any(p.glob("*.parquet")) or p.suffix == ".parquet":
        return "parquet"
    if p.is_dir() or "*" in path:
        return "files"
    suffix = p.suffix.lower()
    if suffix in (".jsonl", ".json"):
        return "jsonl"
    if suffix == ".csv":
        return "csv"
    raise InputError(f"{path}: expected JSONL, CSV, Parquet, or a folder of .txt/.md/.html files")


def read_articles(spark, path: str, *, id_field: str | None = None, text_field: str = "text"):
    """A DataFrame (doc_id, text, source, error) of the input's articles and of what is not one."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    from .sources import ID_FIELDS, SUFFIXES

    kind = input_kind(path)
    if kind != "files" and "://" not in path and not Path(path).exists():
        raise InputError(f"{path}: no such file or folder")
    if kind == "files":
        glob = "*.{" + ",".join(s.lstrip(".") for s in SUFFIXES if s not in (".jsonl", ".csv")) + "}"
        raw = (spark.read.format("binaryFile").option("recursiveFileLookup", "true")
               .option("pathGlobFilter", glob).load(path))
        decoded = F.udf(lambda path, content: decode_file(path, content), T.StructType([T.StructField("doc_id", T.StringType()),
                                                   T.StructField("text", T.StringType()),
                                                   T.StructField("error", T.StringType())]))
        return raw.select(decoded("path", "content").alias("a"), F.col("path").alias("source")).select(
            "a.doc_id", "a.text", "source", "a.error")
    corrupt = "_corrupt_record"
    if kind == "jsonl":
        df = spark.read.option("mode", "PERMISSIVE").option("columnNameOfCorruptRecord", corrupt).json(path)
    elif kind == "csv":
        df = (spark.read.option("header", "true").option("multiLine", "true").option("escape", '"')
              .option("mode", "PERMISSIVE").option("columnNameOfCorruptRecord", corrupt).csv(path))
    else:
        df = spark.read.parquet(path)
    ids = [id_field] if id_field else [f for f in ID_FIELDS if f in df.columns]
    if not ids or ids[0] not in df.columns:
        raise InputError(f"{path}: no {id_field or ' or '.join(ID_FIELDS)!r} column")
    if text_field not in df.columns:
        raise InputError(f"{path}: no {text_field!r} column")
    error = F.lit(None).cast("string")
    if corrupt in df.columns:
        error = F.when(F.col(corrupt).isNotNull(), F.lit("not a valid record")).otherwise(error)
    return df.select(F.col(ids[0]).cast("string").alias("doc_id"), F.col(text_field).cast("string").alias("text"),
                     F.input_file_name().alias("source"), error.alias("error"))


class SparkJobError(PipelineError):
    """A Spark job that failed (an executor could not start Python, load the model, ...)."""


def _cause(err: Exception) -> str:
    """The last line of a Spark/Python error that names an exception: usually the root cause."""
    lines = [ln.strip() for ln in str(err).splitlines() if ln.strip()]
    named = [ln for ln in lines if ("Error" in ln or "Exception" in ln) and not ln.startswith("at ")]
    return (named[-1] if named else lines[0] if lines else type(err).__name__)[:300]


def _fs(spark, path: str):
    jvm = spark.sparkContext._jvm
    jpath = jvm.org.apache.hadoop.fs.Path(path)
    return jpath.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), jpath, jvm


def spark_label(
    spark, input_path: str, model_dir: Path, out: str, *, device: str = "auto", precision: str = "auto",
    partitions: int | None = None, overwrite: bool = False, id_field: str | None = None, text_field: str = "text",
) -> dict:
    """Labels ``input_path`` into ``out`` (units/ and articles/ Parquet); returns counts."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    from .modeling import MANIFEST
    from .predict import Labeller

    model_dir = Path(model_dir)
    if not (model_dir / MANIFEST).is_file():
        raise InputError(f"{model_dir}: not an argmine model folder (no {MANIFEST})")
    Labeller(model_dir, device="cpu")  # a broken model folder fails here, in one line, not on every executor
    fs, target, jvm = _fs(spark, out)
    if fs.exists(target) and not overwrite:
        raise InputError(f"{out}: exists; choose a new --out, or pass --overwrite")
    articles = read_articles(spark, input_path, id_field=id_field, text_field=text_field)
    if partitions:
        articles = articles.repartition(partitions)
    spark.sparkContext.addFile(str(model_dir.resolve()), recursive=True)
    threads = int(spark.conf.get("spark.task.cpus", "1"))
    name = model_dir.resolve().name

    def run(frames):
        return label_partition(frames, model_name=name, device=device, precision=precision, threads=threads)

    labelled = articles.mapInPandas(run, schema=result_schema()).persist(StorageLevel.MEMORY_AND_DISK)
    staging = f"{out.rstrip('/')}.staging-{uuid.uuid4().hex[:8]}"
    try:
        units = labelled.select("doc_id", F.explode("units").alias("u")).select(
            "doc_id", "u.unit_id", "u.start", "u.end", "u.text", "u.labels", *(f"u.{c}" for c in SCORE_COLUMNS))
        try:
            units.write.parquet(f"{staging}/units")
            labelled.select(*ARTICLE_COLUMNS, "error").write.parquet(f"{staging}/articles")
            counts = labelled.agg(F.count("*").alias("articles"), F.sum("n_units").alias("units"),
                                  F.sum(F.col("error").isNotNull().cast("int")).alias("errors")).first().asDict()
        except Exception as err:  # a Py4J trace runs to pages: say what failed in one line
            raise SparkJobError(f"the Spark job failed, nothing was written to {out}: {_cause(err)}") from err
        if fs.exists(target):  # --overwrite: the old result goes only once the new one is complete
            fs.delete(target, True)
        if not fs.rename(jvm.org.apache.hadoop.fs.Path(staging), target):
            raise RuntimeError(f"could not move {staging} to {out}")
    finally:
        labelled.unpersist()
        staging_path = jvm.org.apache.hadoop.fs.Path(staging)
        if fs.exists(staging_path):
            fs.delete(staging_path, True)
    return {k: int(v or 0) for k, v in counts.items()}


def session(master: str | None = None, app_name: str = "argmine spark-label"):
    """A SparkSession: ``master`` if given, else SPARK_MASTER, else spark-submit's, else local[*]."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName(app_name)
    submitted = "PYSPARK_GATEWAY_PORT" in os.environ  # started by spark-submit: its --master rules
    master = master or os.environ.get("SPARK_MASTER") or (None if submitted else "local[*]")
    if master:
        builder = builder.master(master)
    if (master or "").startswith("local") and not submitted and "PYSPARK_PYTHON" not in os.environ:
        import sys

        os.environ["PYSPARK_PYTHON"] = sys.executable  # local workers run in this virtualenv
    return (builder.config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .config("spark.sql.session.timeZone", "UTC").getOrCreate())
