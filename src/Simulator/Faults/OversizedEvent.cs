using System.Text;

namespace AgentWorker.Simulator.Faults;

/// <summary>
/// The event of an <c>oversized</c> fault: an <c>output_text.delta</c> of exactly the asked size, valid JSON, written in
/// 64 KiB pieces from one buffer (the simulator itself never holds it whole).
/// </summary>
internal static class OversizedEvent
{
    private const int PieceBytes = 64 * 1024;
    private static readonly byte[] s_head = Encoding.UTF8.GetBytes(
        """{"type":"response.output_text.delta","item_id":"oversized","output_index":0,"content_index":0,"delta":" """.TrimEnd());
    private static readonly byte[] s_tail = Encoding.UTF8.GetBytes("\"}");

    /// <summary>Writes the event of <paramref name="bytes"/> bytes; <paramref name="write"/> gets each piece and whether it is the last.</summary>
    public static async Task WriteAsync(int bytes, Func<ReadOnlyMemory<byte>, bool, Task> write)
    {
        var padding = new byte[PieceBytes];
        Array.Fill(padding, (byte)'x');
        await write(s_head, false);
        for (long left = bytes - s_head.Length - s_tail.Length; left > 0; left -= PieceBytes)
        {
            await write(padding.AsMemory(0, (int)Math.Min(left, PieceBytes)), false);
        }
        await write(s_tail, true);
    }
}
