namespace MLNet.Vae.Benchmarks;

/// <summary>ROC-AUC as the Mann-Whitney statistic: the probability that a random positive scores above a random negative (ties count half).</summary>
public static class RocAuc
{
    public static double Compute(IReadOnlyList<float> scores, IReadOnlyList<bool> positive)
    {
        var order = Enumerable.Range(0, scores.Count).OrderBy(i => scores[i]).ToArray();
        var ranks = new double[scores.Count];
        for (int start = 0; start < order.Length;)
        {
            int end = start;
            while (end + 1 < order.Length && scores[order[end + 1]] == scores[order[start]]) end++;
            double averageRank = (start + end) / 2.0 + 1;
            for (int k = start; k <= end; k++) ranks[order[k]] = averageRank;
            start = end + 1;
        }
        long positives = positive.Count(p => p), negatives = positive.Count - positives;
        double positiveRankSum = Enumerable.Range(0, scores.Count).Where(i => positive[i]).Sum(i => ranks[i]);
        return (positiveRankSum - positives * (positives + 1) / 2.0) / ((double)positives * negatives);
    }
}
