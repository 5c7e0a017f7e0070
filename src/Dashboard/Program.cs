using AgentWorker.Dashboard;

if (args is ["hash-password", ..])
{
    // Reads the password from standard input (so it stays out of the shell's history) and prints its hash for
    // Dashboard__Users__<name>__PasswordHash.
    var password = Console.In.ReadLine();
    if (string.IsNullOrEmpty(password))
    {
        await Console.Error.WriteLineAsync("Usage: echo 'the password' | Dashboard hash-password   (reads one line from standard input)");
        return 64;
    }
    if (password.Length < 12)
    {
        await Console.Error.WriteLineAsync($"The password has {password.Length} characters; use at least 12.");
        return 65;
    }
    await Console.Out.WriteLineAsync(DashboardUser.HashPassword(password));
    return 0;
}

WebApplication web;
try
{
    web = DashboardApp.Create(args);
}
catch (InvalidOperationException ex)
{
    // A configuration that cannot be served (exposed without a key or users, a bad user entry): said once, no stack.
    await Console.Error.WriteLineAsync("Dashboard: " + ex.Message);
    return 1;
}
await web.RunAsync();
return 0;
