namespace Meanwhile.Fuzz;

/// <summary>An oracle of the harness failed: the parser broke its contract or two ways of reading the same bytes disagreed.</summary>
public sealed class FuzzFindingException(string message) : Exception(message);
