// The floor of the 10,000 x 1 s scenario on this machine: what the kernel and nginx allow one core, with no client
// code to speak of. Non-blocking connects in a tight loop (socket, TCP_NODELAY, connect, epoll_ctl), one GET per
// connection once it is writable, edge-triggered epoll, until every chunked response has ended ("0\r\n\r\n").
// bench/client/run.sh builds it with cc when there is one. Usage: many-floor <port on 127.0.0.1> <count>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/resource.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec/1e9;}
int main(int argc,char**argv){
  int port=atoi(argv[1]),n=atoi(argv[2]);
  int ep=epoll_create1(0);
  struct sockaddr_in a={0};a.sin_family=AF_INET;a.sin_port=htons(port);a.sin_addr.s_addr=htonl(0x7f000001);
  char req[]="GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  char*state=calloc(n+100000,1); // 0 connecting,1 sent,2 done
  double t0=now(),tcalls,tlastsent=0; int done=0,sent=0;
  for(int i=0;i<n;i++){
    int fd=socket(AF_INET,SOCK_STREAM|SOCK_NONBLOCK,0); int one=1; setsockopt(fd,IPPROTO_TCP,TCP_NODELAY,&one,4);
    connect(fd,(void*)&a,sizeof a);
    struct epoll_event e={.events=EPOLLIN|EPOLLOUT|EPOLLET,.data.fd=fd}; epoll_ctl(ep,EPOLL_CTL_ADD,fd,&e);
  }
  tcalls=now()-t0;
  struct epoll_event ev[512]; char buf[4096];
  while(done<n){
    int k=epoll_wait(ep,ev,512,-1);
    for(int j=0;j<k;j++){int fd=ev[j].data.fd;
      if(state[fd]==0 && (ev[j].events&EPOLLOUT)){ write(fd,req,sizeof req-1); state[fd]=1; if(++sent==n) tlastsent=now()-t0;}
      if(state[fd]==1 && (ev[j].events&EPOLLIN)){ int r; while((r=read(fd,buf,sizeof buf))>0){ if(r>=5 && memcmp(buf+r-5,"0\r\n\r\n",5)==0){state[fd]=2;done++;break;} } }
    }
  }
  double all=now()-t0; struct rusage u; getrusage(RUSAGE_SELF,&u);
  printf("requests %d elapsed_s %.3f (connects issued by %.3f s, last request sent at %.3f s; CPU: user %.3f s, system %.3f s)\n",
         n,all,tcalls,tlastsent,u.ru_utime.tv_sec+u.ru_utime.tv_usec/1e6,u.ru_stime.tv_sec+u.ru_stime.tv_usec/1e6);
}
