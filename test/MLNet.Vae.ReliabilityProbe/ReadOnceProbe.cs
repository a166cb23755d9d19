using System.Collections;
using System.Collections.Concurrent;
using Microsoft.ML;

namespace MLNet.Vae.ReliabilityProbe;

/// <summary>
/// Transform must read its input once and keep each score beside its own row: on a read-once source (a consuming
/// BlockingCollection, which LoadFromEnumerable accepts) and on a source whose every enumeration differs, 513 and 1198
/// of 1200 rows came back with another row's score before. Upstream work must run once per row.
/// </summary>
internal static class ReadOnceProbe
{
    private const int RowCount = 1200;

    public static void Run()
    {
        var ml = new MLContext(seed: 1);
        using var model = ProbeData.Fit(ml);

        var rows = ProbeData.Rows(RowCount, seed: 4);
        var queue = new BlockingCollection<Row>();
        rows.ForEach(queue.Add);
        queue.CompleteAdding();
        var fromQueue = ProbeData.Score(ml, model, queue.GetConsumingEnumerable());
        CheckOwnScores(ml, model, fromQueue, "read-once source");

        var changing = new ChangingRows();
        var fromChanging = ProbeData.Score(ml, model, changing);
        CheckOwnScores(ml, model, fromChanging, "source that never repeats");
        ProbeFailure.Unless(changing.RowsProduced == RowCount,
            $"scoring {RowCount} rows made the source produce {changing.RowsProduced}: upstream work must run once per row");
        Console.WriteLine($"{RowCount} rows from a read-once source and from a changing source each came back with their own scores; the source produced each row once");
    }

    /// <summary>Each output row's score must be the one its own features get when scored again from a plain list.</summary>
    private static void CheckOwnScores(MLContext ml, ITransformer model, List<ScoredRow> scored, string source)
    {
        ProbeFailure.Unless(scored.Count == RowCount, $"{source}: {scored.Count} of {RowCount} rows came back");
        var again = ProbeData.Score(ml, model, scored.Select(r => new Row { Features = r.Features, Id = r.Id }));
        int wrong = scored.Zip(again).Count(p => Math.Abs(p.First.Score - p.Second.Score) > 1e-5 * Math.Max(1, Math.Abs(p.Second.Score)));
        ProbeFailure.Unless(wrong == 0, $"{source}: {wrong} of {RowCount} rows carry a score that is not their own");
        ProbeFailure.Unless(scored.Select(r => r.Id).SequenceEqual(Enumerable.Range(0, RowCount).Select(i => scored[0].Id + i)),
            $"{source}: rows came back out of order");
    }

    /// <summary>Every enumeration yields new rows (ids continue), as a live feed would.</summary>
    private sealed class ChangingRows : IEnumerable<Row>
    {
        private int _enumerations;
        public int RowsProduced;

        public IEnumerator<Row> GetEnumerator()
        {
            int enumeration = _enumerations++;
            foreach (var row in ProbeData.Rows(RowCount, seed: 100 + enumeration, firstId: enumeration * RowCount))
            {
                RowsProduced++;
                yield return row;
            }
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
