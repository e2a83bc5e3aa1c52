# The state machine of a `DEVOPS` Jira project whose board has a QA column. A merged pull
# request moves an issue one column right (`next`); a QA reviewer's `reject` sends it back.
provisioner "devops" {
  aliasmapper "devops" {
    aliases = {
      to_do: "To Do",
      in_progress: "In Progress",
      in_qa: "In QA",
      done: "Done"
    }
  }

  statemachine "devops" {
    initial = "to_do"

    state "to_do" "next" {
      transition = "in_progress"
    }

    state "in_progress" "next" {
      transition = "in_qa"
    }

    state "in_qa" "next" {
      transition = "done"
    }

    state "in_qa" "reject" {
      transition = "in_progress"
    }

    state "done" "next" {
      transition = "<end>"
    }
  }
}
