# doxygen-filter.awk: Doxygen's INPUT_FILTER for corio's public headers
# (see Doxyfile). It turns the headers' plain comments into Doxygen ones,
# line for line, so line numbers stay right:
#   - the first comment of the file describes the file:   /*  ->  /** @file
#   - a comment starting a line documents what follows:   /*  ->  /**
#   - a comment after a member or enumerator on its line: /*  ->  /**<
# A comment at the start of a line and the declarations right after it (up
# to the next blank line) form a member group, so one comment covering
# several calls (corio_scope_timeout and corio_scope_timeout_at) documents
# each of them (DISTRIBUTE_GROUP_DOC). Comments already in Doxygen form are
# left alone.
{
    line = $0
    if (!seen_file_comment && line ~ /^\/\*($|[^*])/) {
        sub(/^\/\*/, "/** @file", line)
        seen_file_comment = 1
        in_comment = (line !~ /\*\//)
        print line
        next
    }
    if (in_comment) {
        if (line ~ /\*\//)
            in_comment = 0
        print line
        next
    }
    if (line ~ /^\/\*($|[^*!])/) {
        sub(/\/\*/, "/**", line)
        line = "/** @{ */ " line
        if (group_open)
            line = "/** @} */ " line
        group_open = 1
        in_comment = (line !~ /\*\//)
    } else if (line ~ /^[ \t]+\/\*($|[^*!])/) {
        sub(/\/\*/, "/**", line)
        in_comment = (line !~ /\*\//)
    } else if (line ~ /[;,{][ \t]*\/\*($|[^*!<])/) {
        sub(/\/\*/, "/**<", line)
        in_comment = (line !~ /\*\//)
    } else if (group_open && (line ~ /^[ \t]*$/ || line ~ /^#/)) {
        line = "/** @} */" line
        group_open = 0
    }
    print line
}
